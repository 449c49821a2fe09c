/** Notebook and report support: parameters, display, progress, provenance, results files. */
export { escapeHtml, html, markdown, type Html, type Markdown, type Png } from '../plots/html';
export { envName, parameters, parseParameter, type ParametersOptions, type ParamValues, type Widen } from './parameters';
export { provenance, provenanceTable, StageTimer, type Provenance } from './provenance';
export { displayItem, notebookProgress, setDisplaySink, show, type Displayable, type DisplayItem } from './display';
export { readResults, reportDir, toCsv, writeResults, type Columns, type NotebookResults } from './results';
export { headlineNumbers, reportIndexHtml, type ReportEntry } from './index-page';
