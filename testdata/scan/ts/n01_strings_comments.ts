import OpenAI from 'openai';
// client.chat.completions.create({ model: 'x' })
/* await anthropic.messages.create({}) */
const s = "client.chat.completions.create()";
const t = `await client.responses.create(${1})`;
export { s, t, OpenAI };
