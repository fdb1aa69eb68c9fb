import OpenAI from 'openai';
import { useState } from 'react';

const openai = new OpenAI({ dangerouslyAllowBrowser: true });

export function Chat<T>() {
  const [answer, setAnswer] = useState('');
  const ask = async () => {
    const r = await openai.chat.completions.create({ model: 'gpt-4o', messages: [] });
    setAnswer(r.choices[0].message.content ?? '');
  };
  return <button onClick={ask}>{answer}</button>;
}
