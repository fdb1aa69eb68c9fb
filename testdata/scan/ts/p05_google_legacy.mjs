import { GoogleGenerativeAI } from '@google/generative-ai';

const genAI = new GoogleGenerativeAI(process.env.KEY);
const model = genAI.getGenerativeModel({ model: 'gemini-1.5-flash' });

const r = await model.generateContent('hi');
const chat = model.startChat({ history: [] });
const s = await chat.sendMessageStream('hello');
console.log(r, s);
