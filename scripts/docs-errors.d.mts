// Types of scripts/docs-errors.mjs, for the tests that use it.

/** One code of the catalog. */
export interface CatalogEntry {
  code: string;
  status: number;
  /** Its doc comment, on one line. */
  meaning: string;
}

export const CATALOG_SOURCE: string;
export const TABLE_PATH: string;
export function parseCatalog(source: string, runtime: Record<string, number>): CatalogEntry[];
export function catalogTable(entries: CatalogEntry[]): string;
export function generateCatalogTable(): Promise<string>;
