const { GoogleGenAI } = require('@google/genai');
const ai = new GoogleGenAI({});
ai.models.generateContent({ model: 'g', contents: 'x' });
