'use strict';
// A Node app instrumented with the official OpenTelemetry SDK and
// @opentelemetry/instrumentation-openai, with no assay code: its exporter
// is configured only by the standard OTEL_EXPORTER_OTLP_* variables (set by
// `assay run --otlp`, or pointing at a Collector). It makes the chat calls
// in APP_CALLS (JSON [[model, prompt], ...]) against OPENAI_BASE_URL (the
// synthetic LLM server in the tests) and shuts the SDK down so every span
// is flushed before it exits. CommonJS so the instrumentation can hook
// require('openai') without a loader flag.
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { OpenAIInstrumentation } = require('@opentelemetry/instrumentation-openai');

const sdk = new NodeSDK({ instrumentations: [new OpenAIInstrumentation()] });
sdk.start();

const { OpenAI } = require('openai'); // after start: the instrumentation patches it

async function main() {
  const client = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: process.env.OPENAI_API_KEY, maxRetries: 0 });
  const calls = JSON.parse(process.env.APP_CALLS || '[["gpt-4o","hello"]]');
  let failed = 0;
  for (const [model, prompt] of calls) {
    try {
      const r = await client.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }] });
      console.log(`${model}: ${r.choices[0].message.content}`);
    } catch (e) {
      failed++;
      console.log(`${model}: error ${e.status || e.message}`);
    }
  }
  await sdk.shutdown();
  console.log(`calls=${calls.length} failed=${failed}`);
}

main().catch(async (e) => {
  console.error(e);
  await sdk.shutdown().catch(() => {});
  process.exit(1);
});
