/** WBXML public identifiers (wbxml.md §3). */

/** Public id 0: the FPI is a string-table entry whose offset follows. */
export const PUBLIC_ID_IN_STRING_TABLE = 0x00;
/** Public id 1: unknown / none registered (used for embedded DDF/TNDS documents). */
export const PUBLIC_ID_UNKNOWN = 0x01;
export const PUBLIC_ID_SYNCML_10 = 0x0fd1;
export const PUBLIC_ID_SYNCML_11 = 0x0fd3;
export const PUBLIC_ID_SYNCML_12 = 0x1201;
export const PUBLIC_ID_METINF_12 = 0x1202;
export const PUBLIC_ID_DEVINF_12 = 0x1203;

export const FPI_SYNCML_10 = '-//SYNCML//DTD SyncML 1.0//EN';
export const FPI_SYNCML_11 = '-//SYNCML//DTD SyncML 1.1//EN';
export const FPI_SYNCML_12 = '-//SYNCML//DTD SyncML 1.2//EN';
export const FPI_DMDDF_12 = '-//OMA//DTD-DM-DDF 1.2//EN';

/** A document's public id: the registered number, or the FPI string when it came through the string table. */
export type PublicId = number | string;

const NUMERIC_BY_FPI = new Map<string, number>([
  [FPI_SYNCML_10.toLowerCase(), PUBLIC_ID_SYNCML_10],
  [FPI_SYNCML_11.toLowerCase(), PUBLIC_ID_SYNCML_11],
  [FPI_SYNCML_12.toLowerCase(), PUBLIC_ID_SYNCML_12],
]);

/** The registered number of a public id, resolving FPIs case-insensitively (wbxml.md §3); undefined if none. */
export function numericPublicId(id: PublicId): number | undefined {
  if (typeof id === 'number') return id;
  return NUMERIC_BY_FPI.get(id.trim().toLowerCase());
}

/** Whether `id` names the DM DDF 1.2 DTD (only ever as an FPI: it has no registered number). */
export function isDmDdfPublicId(id: PublicId): boolean {
  return typeof id === 'string' && id.trim().toLowerCase() === FPI_DMDDF_12.toLowerCase();
}

/** Human-readable name of a public id, for error messages. */
export function describePublicId(id: PublicId): string {
  if (typeof id === 'string') return JSON.stringify(id);
  return `0x${id.toString(16).padStart(4, '0')}`;
}
