import { GoogleGenAI } from '@google/genai';

const ai = new GoogleGenAI({ apiKey: process.env.GEMINI_API_KEY });

export async function gen() {
  const r = await ai.models.generateContent({ model: 'gemini-2.0-flash', contents: 'hi' });
  for await (const c of await ai.models.generateContentStream({ model: 'gemini-2.0-flash', contents: 'hi' })) {
    console.log(c.text);
  }
  const chat = ai.chats.create({ model: 'gemini-2.0-flash' });
  const m = await chat.sendMessage({ message: 'hi' });
  const e = await ai.models.embedContent({ model: 'text-embedding-004', contents: 'hi' });
  return [r, m, e];
}
