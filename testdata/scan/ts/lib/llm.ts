export { default as OpenAI } from 'openai';
export { generateText } from 'ai';
export * from '@anthropic-ai/sdk';
export type { ChatCompletion } from 'openai/resources';
