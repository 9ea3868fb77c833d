// Public entry of the search loop: runSearch, results, results.csv, callbacks.
export { runSearch, RESULTS_FILE, hyperparameterNamesOf, type SearchOptions } from './loop.js';
export { SearchResults, objectiveScore } from './results.js';
export { resultsToCsv, writeResultsCsv, readResultsCsv, parseCsv, type ResultsTable } from './csv.js';
export { ProgressCallback, SearchEarlyStopping, formatProgress, type SearchCallback, type SearchProgress } from './callbacks.js';
export { plotSearchTrajectory, type PlotOptions } from './plot.js';
export { Journal, readJournal, JOURNAL_FILE, type JournalRecord, type JournalState } from './journal.js';
export { SearchError, type SearchErrorCode } from './errors.js';
