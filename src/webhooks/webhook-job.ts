/** The data of one callback delivery job (BullMQ job id = correlation id). */
export interface WebhookJobData {
  correlationId: string;
  url: string;
  route: string;
  /** The rendered JSON body (see `callbackPayload`): the job does not depend on the reply's TTL. */
  body: string;
}
