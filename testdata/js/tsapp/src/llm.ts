import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';

const openai = new OpenAI({ maxRetries: 0 });
const anthropic = new Anthropic({ maxRetries: 0 });
const gemini = new GoogleGenAI({ apiKey: process.env.GEMINI_API_KEY ?? 'unset' });

export async function ask(prompt: string): Promise<string[]> {
  const chat = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] });
  const resp = await openai.responses.create({ model: 'gpt-4o-mini', input: prompt, instructions: 'Be brief.' });
  const msg = await anthropic.messages.create({ model: 'claude-3-5-haiku-latest', max_tokens: 64, system: 'Be brief.', messages: [{ role: 'user', content: prompt }] });
  const gem = await gemini.models.generateContent({ model: 'gemini-2.0-flash', contents: prompt });
  const block = msg.content[0];
  return [chat.choices[0]?.message.content ?? '', resp.output_text, block?.type === 'text' ? block.text : '', gem.text ?? ''];
}

export async function askStreams(prompt: string): Promise<string[]> {
  let a = '';
  const s = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }], stream: true, stream_options: { include_usage: true } });
  for await (const c of s) a += c.choices[0]?.delta.content ?? '';
  const ms = anthropic.messages.stream({ model: 'claude-3-5-haiku-latest', max_tokens: 64, messages: [{ role: 'user', content: prompt }] });
  const m = await ms.finalMessage();
  let g = '';
  for await (const c of await gemini.models.generateContentStream({ model: 'gemini-2.0-flash', contents: prompt })) g += c.text ?? '';
  const b = m.content[0];
  return [a, b?.type === 'text' ? b.text : '', g];
}

// Never called: a site the contract lists that no run covers.
export async function embedAll(texts: string[]) {
  return openai.embeddings.create({ model: 'text-embedding-3-small', input: texts });
}
