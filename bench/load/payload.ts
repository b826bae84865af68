/** A JSON request body of exactly `bytes` bytes, the same for every variant. */
export function payload(bytes: number): Buffer {
  const overhead = '{"data":""}'.length;
  return Buffer.from(`{"data":"${'x'.repeat(Math.max(0, bytes - overhead))}"}`);
}
