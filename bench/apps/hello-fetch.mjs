// examples/test.js as a fetch-style app: what the thread kind runs natively, without an in-thread request/response.
export default {
  fetch: () => new Response('Hello, World!\n', { headers: { 'content-type': 'text/plain' } }),
};
