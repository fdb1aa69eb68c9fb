import type OpenAI from 'openai';
import type { Messages } from '@anthropic-ai/sdk/resources';
import { type GoogleGenAI } from '@google/genai';

export type Create = OpenAI['chat']['completions']['create'];
export function describe(g: GoogleGenAI, m: Messages) {
  return [g, m, inbox.messages.create({})];
}
declare const inbox: any;
