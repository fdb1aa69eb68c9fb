// A small agent: asks each SDK once (and streams some), then reports.
import { ask, askStreams } from './llm.js';
import { summarise } from './summary.js';

const answers = await ask('Say hello to the receipts.');
const streamed = await askStreams('Stream hello.');
const summary = await summarise([...answers, ...streamed]);
process.stdout.write(JSON.stringify({ answers: answers.length, streamed: streamed.length, summary }) + '\n');
