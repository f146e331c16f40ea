import {
  encodeRawTable,
  encodeRawValue,
  headersRange,
  PropertyFlag,
  type RawEntry,
  tableEntries,
  typed,
  withRawProperty,
} from "@warren/protocol";

/**
 * Properties with the x-delivery-count header quorum queues add to redeliveries: replaced in
 * place when present, appended otherwise. The other headers are copied as their bytes, so
 * this cannot fail on whatever a publisher nested in them.
 */
export function withDeliveryCount(rawProps: Buffer, count: number): Buffer {
  const range = headersRange(rawProps);
  const entries: RawEntry[] = range ? tableEntries(rawProps, range[0], range[1]) : [];
  const value = encodeRawValue(typed.long(count));
  const i = entries.findIndex((e) => e.key === "x-delivery-count");
  if (i >= 0) entries[i] = { key: "x-delivery-count", value };
  else entries.push({ key: "x-delivery-count", value });
  return withRawProperty(rawProps, PropertyFlag.headers, encodeRawTable(entries));
}
