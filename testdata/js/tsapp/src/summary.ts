import { generateText } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';

const provider = createOpenAI({ baseURL: process.env.OPENAI_BASE_URL });

export async function summarise(parts: string[]): Promise<string> {
  const { text } = await generateText({ model: provider.chat('gpt-4o-mini'), prompt: 'Summarise: ' + parts.join(' | ') });
  return text;
}
