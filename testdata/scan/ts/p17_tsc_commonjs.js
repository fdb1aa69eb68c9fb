"use strict";
// What tsc and Babel emit for `import OpenAI from 'openai'` in CommonJS.
var __importDefault = (this && this.__importDefault) || function (mod) { return (mod && mod.__esModule) ? mod : { "default": mod }; };
Object.defineProperty(exports, "__esModule", { value: true });
const openai_1 = __importDefault(require("openai"));
const sdk_1 = _interopRequireDefault(require("@anthropic-ai/sdk"));
const client = new openai_1.default();
const claude = new sdk_1.default();
async function main() {
    await client.chat.completions.create({ model: 'm', messages: [] });
    return claude.messages.create({ model: 'c', max_tokens: 1, messages: [] });
}
exports.main = main;
