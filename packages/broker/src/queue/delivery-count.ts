import { decodeRawProperties, encodeRawProperties, typed } from "@warren/protocol";

/** Properties with the x-delivery-count header quorum queues add to redeliveries. */
export function withDeliveryCount(rawProps: Buffer, count: number): Buffer {
  const props = decodeRawProperties(rawProps);
  props.headers = { ...(props.headers ?? {}), "x-delivery-count": typed.long(count) };
  return encodeRawProperties(props);
}
