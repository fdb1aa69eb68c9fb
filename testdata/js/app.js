// A plain program using the official JavaScript LLM SDKs, with no assay
// code in it. cmd/assay's end-to-end test runs it as
//
//   assay run --gateway -- node app.js
//
// The gateway points the SDKs at itself through the base-URL variables they
// read on their own (OPENAI_BASE_URL, ANTHROPIC_BASE_URL,
// GOOGLE_GEMINI_BASE_URL) and forwards to the synthetic LLM server. For
// every call the program prints one JSON line with what the SDK saw (model,
// text, usage), so the test can compare it with the receipts in the pack.
// APP_KILL_AFTER=N makes it SIGKILL itself after N calls (crash test).
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';

const openai = new OpenAI({ apiKey: process.env.OPENAI_API_KEY ?? 'sk-test-not-a-real-key', maxRetries: 0 });
const anthropic = new Anthropic({ apiKey: process.env.ANTHROPIC_API_KEY ?? 'sk-ant-test-not-a-real-key', maxRetries: 0 });
const gemini = new GoogleGenAI({ apiKey: process.env.GEMINI_API_KEY ?? 'gemini-test-not-a-real-key' });

const prompt = 'Say hello to the receipts.';
const killAfter = Number(process.env.APP_KILL_AFTER ?? 0);
let calls = 0;

function report(rec) {
  process.stdout.write(JSON.stringify(rec) + '\n');
  calls++;
  if (killAfter && calls >= killAfter) {
    process.kill(process.pid, 'SIGKILL');
  }
}

const steps = {
  async openaiChat() {
    const r = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: prompt }],
    });
    report({ provider: 'openai', api: 'chat', stream: false, model: r.model, text: r.choices[0].message.content,
      input_tokens: r.usage.prompt_tokens, output_tokens: r.usage.completion_tokens, finish_reason: r.choices[0].finish_reason });
  },
  async openaiChatStream() {
    const s = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: prompt }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '', model = '', usage = null, finish = null;
    for await (const c of s) {
      model = c.model || model;
      if (c.choices?.[0]?.delta?.content) text += c.choices[0].delta.content;
      if (c.choices?.[0]?.finish_reason) finish = c.choices[0].finish_reason;
      if (c.usage) usage = c.usage;
    }
    report({ provider: 'openai', api: 'chat', stream: true, model, text,
      input_tokens: usage?.prompt_tokens ?? null, output_tokens: usage?.completion_tokens ?? null, finish_reason: finish });
  },
  async openaiResponses() {
    const r = await openai.responses.create({ model: 'gpt-4o-mini', input: prompt });
    report({ provider: 'openai', api: 'responses', stream: false, model: r.model, text: r.output_text,
      input_tokens: r.usage.input_tokens, output_tokens: r.usage.output_tokens, finish_reason: r.status });
  },
  async anthropicMessages() {
    const r = await anthropic.messages.create({
      model: 'claude-3-5-haiku-latest', max_tokens: 64, system: 'Be brief.',
      messages: [{ role: 'user', content: prompt }],
    });
    report({ provider: 'anthropic', api: 'messages', stream: false, model: r.model,
      text: r.content.filter((b) => b.type === 'text').map((b) => b.text).join(''),
      input_tokens: r.usage.input_tokens, output_tokens: r.usage.output_tokens, finish_reason: r.stop_reason });
  },
  async anthropicMessagesStream() {
    const s = await anthropic.messages.create({
      model: 'claude-3-5-haiku-latest', max_tokens: 64, stream: true,
      messages: [{ role: 'user', content: prompt }],
    });
    let text = '', model = '', input = null, output = null, finish = null;
    for await (const e of s) {
      if (e.type === 'message_start') { model = e.message.model; input = e.message.usage?.input_tokens ?? null; }
      if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
      if (e.type === 'message_delta') { output = e.usage?.output_tokens ?? output; finish = e.delta.stop_reason ?? finish; }
    }
    report({ provider: 'anthropic', api: 'messages', stream: true, model, text, input_tokens: input, output_tokens: output, finish_reason: finish });
  },
  async geminiGenerate() {
    const r = await gemini.models.generateContent({ model: 'gemini-2.0-flash', contents: prompt });
    report({ provider: 'google', api: 'generateContent', stream: false, model: 'gemini-2.0-flash', text: r.text,
      input_tokens: r.usageMetadata?.promptTokenCount ?? null, output_tokens: r.usageMetadata?.candidatesTokenCount ?? null,
      finish_reason: r.candidates?.[0]?.finishReason ?? null });
  },
  async geminiGenerateStream() {
    const s = await gemini.models.generateContentStream({ model: 'gemini-2.0-flash', contents: prompt });
    let text = '', usage = null, finish = null;
    for await (const c of s) {
      text += c.text ?? '';
      if (c.usageMetadata) usage = c.usageMetadata;
      if (c.candidates?.[0]?.finishReason) finish = c.candidates[0].finishReason;
    }
    report({ provider: 'google', api: 'generateContent', stream: true, model: 'gemini-2.0-flash', text,
      input_tokens: usage?.promptTokenCount ?? null, output_tokens: usage?.candidatesTokenCount ?? null, finish_reason: finish });
  },
};

// APP_STEPS=a,b,c picks steps (default: all, in order).
const names = process.env.APP_STEPS ? process.env.APP_STEPS.split(',') : Object.keys(steps);
for (const n of names) {
  if (!steps[n]) {
    console.error(`app.js: unknown step ${n}; known: ${Object.keys(steps).join(', ')}`);
    process.exit(2);
  }
  try {
    await steps[n]();
  } catch (e) {
    console.error(`app.js: ${n} failed: ${e.message}`);
    process.exit(1);
  }
}
