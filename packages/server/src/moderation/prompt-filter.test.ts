import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, testDialects, tempDir } from '../test-support/databases.js';
import { ManualClock } from '../clock.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { ConfigError, loadConfig } from '../config.js';
import { buildCoordinator } from '../app.js';
import {
  compileRules,
  hasNestedQuantifier,
  InvalidRulesError,
  normalizeText,
  parseRuleFile,
} from './prompt-rules.js';

describe('prompt rules', () => {
  const rules = compileRules({
    words: ['nude', 'blood bath', 'Gore'],
    patterns: ['/k+[i1!]+l+s?/i', '/\\bsecret\\d{3}\\b/'],
  });
  const rule = (text: string) => rules.match(text)?.rule;

  test('words match whole words, case-insensitively, through trivial evasions', () => {
    const caught = [
      'a nude figure',
      'NUDE',
      'Nude, by the sea',
      'ｎｕｄｅ statue', // full-width letters
      'nu\u200Bde', // zero-width space
      'nu\u00ADde', // soft hyphen
      'nüde', // accent
      'nu\u0308de', // combining diaeresis
      'a blood   bath', // extra spaces
      'blood\nbath',
      'full GORE',
      '(nude)',
      'nude-ish',
    ];
    for (const text of caught) assert.ok(rule(text), `should catch ${JSON.stringify(text)}`);
    assert.equal(rule('ｎｕｄｅ'), 'the blocked word "nude"');
    assert.equal(rule('GORE'), 'the blocked word "Gore"');
  });

  test('clean prompts and words that merely contain a rule pass', () => {
    const clean = [
      'a lighthouse at dusk',
      'prudent nudes', // "nudes" is another word: whole-word matching
      'denuded hillside',
      'gorey', // not "gore"
      'bloodbath is one word here',
      'nude_photo', // underscore joins words
      'a cat named 夜',
    ];
    for (const text of clean) assert.equal(rule(text), undefined, `should pass ${JSON.stringify(text)}`);
  });

  test('patterns match the normalised text with their own flags', () => {
    assert.equal(rule('KKKiiilll them'), 'blocked pattern #1');
    assert.equal(rule('k1!ls'), 'blocked pattern #1');
    assert.equal(rule('the secret123 code'), 'blocked pattern #2');
    assert.equal(rule('the ｓｅｃｒｅｔ１２３ code'), 'blocked pattern #2'); // full-width digits too
    assert.equal(rule('the SECRET123 code'), undefined); // no i flag: case matters
  });

  test('normalisation keeps marks that are letters in other scripts', () => {
    assert.equal(normalizeText('Ｈｅｌｌｏ  wörld'), 'Hello world');
    assert.equal(normalizeText('नमस्ते'), 'नमस्ते');
  });

  test('invalid rules are refused with every problem at once', () => {
    const bad = {
      words: ['ok', '   ', 'x'.repeat(101)],
      patterns: [
        'no-slashes',
        '/(a+)+$/',
        '/(\\w*x)*y/',
        '/(a{2,})+/',
        '/abc/g',
        '/[unclosed/',
        `/${'a'.repeat(257)}/`,
      ],
    };
    assert.throws(
      () => compileRules(bad, 'body/'),
      (err: unknown) => {
        assert.ok(err instanceof InvalidRulesError, String(err));
        assert.deepEqual(
          err.problems.map((p) => p.path),
          [
            'body/words/1',
            'body/words/2',
            'body/patterns/0',
            'body/patterns/1',
            'body/patterns/2',
            'body/patterns/3',
            'body/patterns/4',
            'body/patterns/5',
            'body/patterns/6',
          ],
        );
        return true;
      },
    );
  });

  test('nested quantifiers are detected; ordinary repetition is not', () => {
    for (const p of ['(a+)+', '(a*)*', '((ab)+c)*', '(?:x+y)+', '(a{1,}){2,}'])
      assert.ok(hasNestedQuantifier(p), p);
    for (const p of ['a+b+', '(ab)+', '(a+)?', '[(a+)]+', '\\(a+\\)+', '(a{1})+', 'k+[i1!]+l+'])
      assert.ok(!hasNestedQuantifier(p), p);
  });

  test('a bad rule file stops start-up and names the line', async () => {
    const dir = tempDir();
    const file = join(dir, 'bad.txt');
    writeFileSync(file, 'fine\n\n/(a+)+/\n');
    // The file is read before the database is opened, so no database is needed to see it fail.
    const build = (path: string) =>
      buildCoordinator({ config: loadConfig({ DATA_DIR: dir, PROMPT_BLOCKLIST_FILE: path }), logger: false });
    await assert.rejects(
      build(file),
      (err: unknown) => err instanceof ConfigError && /line 3/.test(err.message),
    );
    await assert.rejects(build(join(dir, 'missing.txt')), ConfigError);
  });

  test('the rule file: one rule per line, comments and blank lines skipped', () => {
    const parsed = parseRuleFile('# blocklist\n\nnude\r\n/k+i+l+/i\n  blood bath  \n');
    assert.deepEqual(parsed.rules, { words: ['nude', 'blood bath'], patterns: ['/k+i+l+/i'] });
    assert.deepEqual(parsed.lines, { words: [3, 5], patterns: [4] });
  });
});

for (const dialect of testDialects()) {
  describe(`prompt filter over HTTP (${dialect})`, () => {
    let c: TestCoordinator;
    let moderatorKey: string;
    before(async () => {
      const file = join(tempDir(), 'blocklist.txt');
      writeFileSync(file, '# test list\nnude\nbanned phrase\n/k+i+l+/i\n');
      c = await startTestCoordinator({ dialect, env: { PROMPT_BLOCKLIST_FILE: file } });
      moderatorKey = (await c.createUser('moderator')).key;
    });
    after(() => c.shutdown());

    const generate = (body: object, key = c.userKey) =>
      c.app.inject({
        method: 'POST',
        url: '/v1/generations',
        headers: auth(key),
        payload: { model: 'sd-1.5', ...body },
      });
    const countGenerations = async (prompt: string) =>
      (
        await c.services.database.db
          .selectFrom('generations')
          .select('id')
          .where('prompt', '=', prompt)
          .execute()
      ).length;

    test('a blocked prompt is refused with 422 naming the field and rule, and nothing is queued', async () => {
      const prompt = 'a ｎｕｄｅ portrait';
      const res = await generate({ prompt });
      assert.equal(res.statusCode, 422, res.body);
      const problem = res.json();
      assert.equal(problem.type, 'prompt_rejected');
      assert.match(problem.detail, /the blocked word "nude"/);
      assert.doesNotMatch(res.body, /banned phrase/, 'the rest of the list is not echoed');
      assert.deepEqual(problem.errors, [{ path: 'body/prompt', message: 'matches the blocked word "nude"' }]);
      assert.equal(await countGenerations(prompt), 0);

      const byPattern = await generate({ prompt: 'KIIILL it' });
      assert.equal(byPattern.statusCode, 422);
      assert.match(byPattern.json().detail, /blocked pattern #1/);
      assert.doesNotMatch(byPattern.body, /k\+i\+l\+/, 'the pattern source is not echoed');
    });

    test('the negative prompt is checked too', async () => {
      const res = await generate({ prompt: 'a calm lake', negativePrompt: 'Banned  Phrase' });
      assert.equal(res.statusCode, 422);
      assert.equal(res.json().errors[0].path, 'body/negativePrompt');
    });

    test('clean prompts go through', async () => {
      for (const prompt of ['a calm lake', 'nudes of the past', 'a cat on a mat']) {
        const res = await generate({ prompt });
        assert.equal(res.statusCode, 201, `${prompt}: ${res.body}`);
      }
    });

    test('admins replace the rules at run time; the change applies at once and is audited', async () => {
      const before = await c.app.inject({ url: '/v1/moderation/prompt-filter', headers: auth(moderatorKey) });
      assert.equal(before.statusCode, 200);
      assert.equal(before.json().source, 'file');
      assert.deepEqual(before.json().words, ['nude', 'banned phrase']);

      const put = await c.app.inject({
        method: 'PUT',
        url: '/v1/admin/prompt-filter',
        headers: auth(c.adminKey),
        payload: { words: ['lighthouse'], patterns: ['/\\bzz+\\b/'] },
      });
      assert.equal(put.statusCode, 200, put.body);
      assert.equal(put.json().source, 'settings');
      assert.ok(put.json().updatedAt, 'updatedAt is set');

      assert.equal((await generate({ prompt: 'a Lighthouse at dusk' })).statusCode, 422);
      assert.equal((await generate({ prompt: 'zzzz' })).statusCode, 422);
      assert.equal(
        (await generate({ prompt: 'a nude study' })).statusCode,
        201,
        'the file list no longer applies',
      );

      const audit = await c.app.inject({
        url: '/v1/moderation/audit?action=settings.prompt_filter',
        headers: auth(moderatorKey),
      });
      const entry = audit.json().items[0];
      assert.equal(entry.targetId, 'prompt_filter');
      assert.deepEqual(entry.detail.words, { added: ['lighthouse'], removed: ['nude', 'banned phrase'] });
      assert.equal(entry.detail.from.source, 'file');

      const reset = await c.app.inject({
        method: 'DELETE',
        url: '/v1/admin/prompt-filter',
        headers: auth(c.adminKey),
      });
      assert.equal(reset.statusCode, 200);
      assert.equal(reset.json().source, 'file');
      assert.equal((await generate({ prompt: 'a Lighthouse at dusk' })).statusCode, 201);
      assert.equal((await generate({ prompt: 'a nude study' })).statusCode, 422);
      const entries = await c.app.inject({
        url: '/v1/moderation/audit?action=settings.prompt_filter',
        headers: auth(moderatorKey),
      });
      assert.equal(entries.json().items.length, 2);
    });

    test('invalid rules get 400 with every bad entry; nothing changes', async () => {
      const res = await c.app.inject({
        method: 'PUT',
        url: '/v1/admin/prompt-filter',
        headers: auth(c.adminKey),
        payload: { words: ['fine'], patterns: ['/(a+)+/', '/x/g'] },
      });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().type, 'validation_failed');
      assert.deepEqual(
        res.json().errors.map((e: { path: string }) => e.path),
        ['body/patterns/0', 'body/patterns/1'],
      );
      const wrongTypes = await c.app.inject({
        method: 'PUT',
        url: '/v1/admin/prompt-filter',
        headers: auth(c.adminKey),
        payload: { words: 'nude', patterns: [] },
      });
      assert.equal(wrongTypes.statusCode, 400);
      const tooMany = await c.app.inject({
        method: 'PUT',
        url: '/v1/admin/prompt-filter',
        headers: auth(c.adminKey),
        payload: { words: Array.from({ length: 10_001 }, (_, i) => `w${i}`), patterns: [] },
      });
      assert.equal(tooMany.statusCode, 400);
      const state = await c.app.inject({ url: '/v1/moderation/prompt-filter', headers: auth(c.adminKey) });
      assert.equal(state.json().source, 'file');
    });

    test('another replica picks up new rules within its 2-second cache', async () => {
      // Two coordinators on one database, as replicas behind a load balancer, on one manual clock.
      const clock = new ManualClock(Date.now());
      const database = await createTestDatabase(dialect);
      const a = await startTestCoordinator({ dialect, database, clock });
      const b = await startTestCoordinator({ dialect, database, clock });
      try {
        const post = (on: TestCoordinator, prompt: string) =>
          on.app.inject({
            method: 'POST',
            url: '/v1/generations',
            headers: auth(on.userKey),
            payload: { prompt, model: 'sd-1.5' },
          });
        assert.equal((await post(b, 'a quiet meadow')).statusCode, 201, 'b has read (and cached) no rules');
        const put = await a.app.inject({
          method: 'PUT',
          url: '/v1/admin/prompt-filter',
          headers: auth(a.adminKey),
          payload: { words: ['meadow'], patterns: [] },
        });
        assert.equal(put.statusCode, 200);
        assert.equal(
          (await post(a, 'a quiet meadow')).statusCode,
          422,
          'the replica that changed them: at once',
        );
        assert.equal((await post(b, 'a quiet meadow')).statusCode, 201, 'the other: still its cached rules');
        clock.advance(2001);
        assert.equal((await post(b, 'a quiet meadow')).statusCode, 422, 'the other: after its cache expired');
      } finally {
        await a.shutdown();
        await b.shutdown();
        await database.drop();
      }
    });

    test('moderators cannot change the rules; users cannot read them', async () => {
      const asModerator = await c.app.inject({
        method: 'PUT',
        url: '/v1/admin/prompt-filter',
        headers: auth(moderatorKey),
        payload: { words: [], patterns: [] },
      });
      assert.equal(asModerator.statusCode, 403);
      const reset = await c.app.inject({
        method: 'DELETE',
        url: '/v1/admin/prompt-filter',
        headers: auth(moderatorKey),
      });
      assert.equal(reset.statusCode, 403);
      const asUser = await c.app.inject({ url: '/v1/moderation/prompt-filter', headers: auth(c.userKey) });
      assert.equal(asUser.statusCode, 403);
    });
  });
}
