export { encodePng, imageGrid, type ImageGridArgs } from './png';
export { figureHtml, plotlyBundle, resetFigureHtml, type Figure } from './plotly';
export { trainingCurvesFigure } from './training';
export { tableHtml, type TableInput } from './table';
export { histogramFigure, reliabilityFigure, type HistogramGroup, type ReliabilityPanel } from './reliability';
