/**
 * The attacks that need no gradients on an ONNX classifier (issue 31): a tiny ONNX net and its tfjs
 * twin (test/models/onnx-fixtures.ts, the same weights), attacked through craftAdversarial.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { ArtifactCache } from '../../lib/artifacts/cache';
import { bimAttack, hopSkipJumpAttack, squareAttack } from '../../lib/attacks/attack';
import { craftAdversarial } from '../../lib/attacks/craft';
import { onnxQueryFn, tensorQueryFn } from '../../lib/attacks/query';
import { logitsFn } from '../../lib/attacks/utils';
import { loadOnnxModel } from '../../lib/models/onnx';
import { tinyConvNet } from '../models/onnx-fixtures';
import { agreement, argmaxOf, counting, spread } from './query-helpers';

const tmp = mkdtempSync(join(tmpdir(), 'dknn-query-onnx-'));
test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
});
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('Square and HopSkipJump attack an ONNX classifier: cached under its file hash, queries counted, ε kept', async () => {
  const { onnx, tfjs } = tinyConvNet({ layout: 'NCHW' });
  const path = join(tmp, 'tiny.onnx');
  writeFileSync(path, onnx);
  const model = await loadOnnxModel(path, { threads: 1 });
  try {
    const t = tf.randomUniform([12, 6, 5, 3], 0, 1, 'float32', 3);
    const data = { images: t.dataSync() as Float32Array, n: 12, height: 6, width: 5, channels: 3 };
    t.dispose();
    // The ONNX net scores as its tfjs twin (same weights): the same predictions on the clean images.
    const query = onnxQueryFn(model);
    const clean = argmaxOf(await query(data), 3);
    assert.deepEqual(clean, argmaxOf(await tensorQueryFn(logitsFn(tfjs))(data), 3));
    await assert.rejects(
      craftAdversarial(model, data, { attack: bimAttack({ eps: 0.1, epsIter: 0.01, nbIter: 2 }), cache: false }),
      /needs the model's gradients, so a tf.LayersModel; an ONNX model can only be attacked by the attacks that need none/,
    );
    const cache = new ArtifactCache({ dir: join(tmp, 'cache') });
    for (const attack of [
      squareAttack({ eps: 0.3, maxQueries: 150, pInit: 0.3 }),
      hopSkipJumpAttack({ eps: 0.3, maxQueries: 300, initNumEvals: 20 }),
    ]) {
      const set = await craftAdversarial(model, data, { attack, cache });
      assert.equal(set.cached, false);
      assert.ok(set.cachePath?.includes(join(tmp, 'cache')));
      assert.ok(spread(set.images, data.images).linf <= 0.3 + 1e-6);
      assert.ok(Math.max(...set.queries!) <= Number(attack.options.maxQueries));
      const adv = argmaxOf(await query({ ...data, images: set.images }), 3);
      assert.ok(agreement(adv, clean) < 0.5, `${attack.label}: ${agreement(adv, clean)} of the labels kept`);
      const again = await craftAdversarial(model, data, { attack, cache });
      assert.equal(again.cached, true);
      assert.deepEqual(again.queries, set.queries);
    }
    // Each query is one image through onnxruntime: the counts add up to what the model scored.
    const counter = counting(query);
    const direct = await craftAdversarial(counter.fn, data, {
      attack: squareAttack({ eps: 0.3, maxQueries: 150, pInit: 0.3 }),
      cache: false,
    });
    assert.equal(
      counter.images,
      direct.queries!.reduce((s, v) => s + v, 0),
    );
  } finally {
    tfjs.dispose();
    await model.close();
  }
});
