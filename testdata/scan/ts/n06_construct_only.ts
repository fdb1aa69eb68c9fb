import OpenAI from 'openai';
import { GoogleGenAI } from '@google/genai';

export const client = new OpenAI();
const ai = new GoogleGenAI({});
export const chat = ai.chats.create({ model: 'gemini' });
export const list = client.models.list();
