/** A legal Kafka topic name: 1–249 of `[A-Za-z0-9._-]`. Declared once for settings and routes. */
export const KAFKA_TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/** The validation message for a name {@link KAFKA_TOPIC_NAME} refuses. */
export const TOPIC_NAME_MESSAGE = 'not a valid Kafka topic name';
