/** The value below which `q` of the sorted values lie (nearest rank). */
export const quantile = (sorted, q) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];

export const median = (values) => {
  const sorted = values.toSorted((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

export const ms = (value) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;
export const thousands = (value) => Math.round(value).toLocaleString('en');
