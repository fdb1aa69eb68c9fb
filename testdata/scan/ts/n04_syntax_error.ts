import OpenAI from 'openai';
const c = new OpenAI(;
c.chat.completions.create({});
