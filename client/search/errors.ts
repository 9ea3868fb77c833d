// Typed errors of the search loop, the journal, results files and space files.

export type SearchErrorCode =
  | 'SEARCH_BAD_OPTIONS'
  | 'JOURNAL_CORRUPT'
  | 'JOURNAL_MISMATCH'
  | 'CSV_BAD_FILE'
  | 'SPACE_BAD_FILE'
  | 'COMMAND_BAD_TEMPLATE';

export class SearchError extends Error {
  readonly code: SearchErrorCode;
  constructor(code: SearchErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SearchError';
    this.code = code;
  }
}
