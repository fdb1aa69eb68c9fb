import OpenAI from 'openai';
export async function work() {
  return new OpenAI().chat.completions.create({ model: 'm', messages: [] });
}
