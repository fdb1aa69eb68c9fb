import { OpenAI, generateText as g, Anthropic } from './lib/llm.js';

const c = new OpenAI();
const a = new Anthropic();

export async function viaReexport() {
  await c.chat.completions.create({ model: 'm', messages: [] });
  await g({ model: 'm' as any, prompt: 'p' });
  return a.messages.create({ model: 'c', max_tokens: 1, messages: [] });
}
