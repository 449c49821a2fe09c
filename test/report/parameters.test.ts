/**
 * The parameters cell refuses, there and then, what the probe of issue 29 found passing it (W8–W12):
 * hexadecimal numbers, empty values, out-of-range and fractional counts, values outside a list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parameters } from '../../lib/report/parameters';

const defaults = { k: 75, kMax: 100, lr: 0.001, formula: 'reference', angles: [0, 45] as readonly number[] };
const checks = { k: { min: 1, max: 'kMax' }, lr: { min: 0 }, formula: { oneOf: ['reference', 'conformal'] } };

test('numbers from the environment are decimal only: 0x10, 1_000, Infinity and an empty value are refused (W8, W9)', () => {
  for (const raw of ['0x10', '1_000', 'Infinity', '0b11', ' 1 2 '])
    assert.throws(
      () => parameters(defaults, { checks, env: { DKNN_K: raw } }),
      new RegExp(`parameter k: DKNN_K must be a decimal number, found ${JSON.stringify(raw)}`),
      raw,
    );
  assert.throws(() => parameters(defaults, { checks, env: { DKNN_K: '' } }), /parameter k: DKNN_K is set but empty/);
  assert.equal(parameters(defaults, { checks, env: { DKNN_K: '50' } }).k, 50);
  assert.equal(parameters(defaults, { checks, env: { DKNN_LR: '1e-3' } }).lr, 0.001);
  assert.deepEqual(parameters(defaults, { checks, env: { DKNN_ANGLES: '15, -30.5' } }).angles, [15, -30.5]);
});

test('a value outside its rule fails in the parameters cell, naming the rule and who set it (W11, W12)', () => {
  assert.throws(
    () => parameters(defaults, { checks, env: { DKNN_K: '-1' } }),
    /parameter k: expected an integer ≥ 1 ≤ 100 \(kMax\), found -1 \(set by DKNN_K\)/,
  );
  assert.throws(() => parameters(defaults, { checks, env: { DKNN_K: '2.5' } }), /parameter k: expected an integer/);
  assert.throws(() => parameters(defaults, { checks, env: { DKNN_K: '150' } }), /≤ 100 \(kMax\), found 150/);
  assert.equal(parameters(defaults, { checks, env: { DKNN_K: '150', DKNN_K_MAX: '200' } }).k, 150);
  // a value typed into the cell itself is checked the same way
  assert.throws(
    () => parameters({ ...defaults, k: 0 }, { checks, env: {} }),
    /parameter k: expected an integer ≥ 1.*found 0$/,
  );
  assert.throws(
    () => parameters(defaults, { checks, env: { DKNN_FORMULA: 'conformel' } }),
    /parameter formula: expected one of "reference", "conformal", found "conformel" \(set by DKNN_FORMULA\)/,
  );
  // a quick-mode value is checked too, and named as such
  assert.throws(
    () => parameters(defaults, { checks, quick: { k: 500 }, env: { DKNN_QUICK: '1' } }),
    /found 500 \(set by quick mode\)/,
  );
});

test('an integer default keeps integer values unless the rule says otherwise; a fractional default takes fractions', () => {
  assert.throws(
    () => parameters({ epochs: 6 }, { env: { DKNN_EPOCHS: '1.5' } }),
    /parameter epochs: expected an integer, found 1.5/,
  );
  assert.equal(
    parameters({ epochs: 6 }, { checks: { epochs: { integer: false } }, env: { DKNN_EPOCHS: '1.5' } }).epochs,
    1.5,
  );
  assert.equal(parameters({ eps: 0.25 }, { env: { DKNN_EPS: '1' } }).eps, 1);
  assert.deepEqual(parameters(defaults, { checks, env: {} }).k, 75);
});
