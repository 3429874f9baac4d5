// An example of backend tools: activities that run inside the operator's own systems, on the operator's own task
// queue. An agent declares one as `{type: 'backend', name: 'lookup_order', task_queue: '…', activity: 'lookupOrder'}`.
// Each receives the session and tool-use ids (for idempotency and audit) and returns text for the model.
import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { BackendToolInput, BackendToolOutput } from '../../domain/backend-tools.ts';
import { FailureType } from '../../domain/errors.ts';

const orders: Record<string, { status: string; total: string }> = {
  'A-1001': { status: 'shipped', total: '42.00 EUR' },
  'A-1002': { status: 'processing', total: '17.50 EUR' },
};

export function createExampleBackendTools() {
  return {
    async lookupOrder({ input }: BackendToolInput): Promise<BackendToolOutput> {
      const orderId = typeof input.order_id === 'string' ? input.order_id : '';
      const order = orders[orderId];
      if (!order) return { content: `No order with id "${orderId}".`, is_error: true };
      return { content: `Order ${orderId}: ${order.status}, total ${order.total}.` };
    },
    /**
     * Returns `bytes` of report text (default 10 KB) that starts with the given marker: long-session tests. With
     * `random: true` the text is base64 of random bytes (the worst case for payload compression).
     */
    async generateReport({ input }: BackendToolInput): Promise<BackendToolOutput> {
      const bytes = typeof input.bytes === 'number' ? Math.min(input.bytes, 1_000_000) : 10_240;
      const marker = typeof input.marker === 'string' ? input.marker : 'report';
      if (input.random === true) {
        return { content: `${marker} ${randomBytes(bytes).toString('base64')}`.slice(0, bytes) };
      }
      const line = `${marker} ${'lorem ipsum dolor sit amet '.repeat(4)}\n`;
      return { content: line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes) };
    },
    async refundOrder({ input, toolUseId }: BackendToolInput): Promise<BackendToolOutput> {
      const orderId = typeof input.order_id === 'string' ? input.order_id : '';
      if (!orders[orderId]) {
        throw ApplicationFailure.create({
          type: FailureType.backendToolFailed,
          nonRetryable: true,
          message: `unknown order ${orderId}`,
        });
      }
      return { content: `Refund for ${orderId} issued (reference ${toolUseId}).` };
    },
  };
}
