/** Explanations: which inputs to look at, and (with lib/plots/gallery) their nearest training points. */
export { correctlyClassified, leastCredible, misclassified } from './select';
