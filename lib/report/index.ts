/** `dk.report`: notebook support: parameters, display, progress bars, provenance, results files, the report index, verification. */
export {
  parameters,
  parametersBanner,
  type NotebookParameters,
  type ParameterChange,
  type ParameterCheck,
  type ParametersOptions,
} from './parameters';
export { show, setDisplaySink, notebookProgress, notebookWarning, type Displayable, type DisplayItem } from './display';
export { provenance, provenanceTable, StageTimer, type Provenance } from './provenance';
export { readResults, reportDir, toCsv, writeResults, type NotebookResults } from './results';
export { reportIndexHtml, type ReportEntry } from './index-page';
export {
  expectedFrom,
  verifyResults,
  verifyTable,
  type ExpectedResults,
  type Tolerance,
  type VerifyRow,
} from './verify';
