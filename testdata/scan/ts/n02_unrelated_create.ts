import twilio from 'twilio';
import Stripe from 'stripe';
import { PrismaClient } from '@prisma/client';

const client = twilio('sid', 'token');
const stripe = new Stripe('k');
const db = new PrismaClient();

export async function unrelated() {
  await client.messages.create({ to: '+1', body: 'hi' });
  await stripe.customers.create({ email: 'a@b' });
  await db.message.create({ data: {} });
  await db.users.create({ data: {} });
}
