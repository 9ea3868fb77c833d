// Typed errors of the search loop, the journal, results files and space files.

import { DhtsError } from '../../protocol/errors.js';

export type SearchErrorCode =
  | 'SEARCH_BAD_OPTIONS'
  | 'JOURNAL_CORRUPT'
  | 'JOURNAL_MISMATCH'
  | 'CSV_BAD_FILE'
  | 'SPACE_BAD_FILE'
  | 'COMMAND_BAD_TEMPLATE';

export class SearchError extends DhtsError<SearchErrorCode> {}
