import { expect } from 'chai';
import { createEchoHandler } from '../../../examples/samples/echo-handler';
import { callHandler, fakeContext } from '../responder/fake-request';

describe('echo sample handler', () => {
  const base = {
    route: 'echo',
    method: 'POST',
    path: '/echo/42',
    params: { id: '42' },
    headers: { 'x-request-id': 'r-1' },
  };

  it('describes the request, with the JSON body parsed', async () => {
    const reply = await callHandler(createEchoHandler(), { ...base, query: { a: '1' }, body: { hello: ['world'] } });
    expect(reply.status).to.equal(200);
    expect(reply.contentType).to.equal('application/json');
    expect(reply.body).to.deep.equal({
      route: 'echo',
      method: 'POST',
      path: '/echo/42',
      params: { id: '42' },
      query: { a: '1' },
      headers: { 'x-request-id': 'r-1' },
      body: { hello: ['world'] },
    });
  });

  it('echoes a body that is not JSON as its text, and no body as null', async () => {
    const text = await callHandler(createEchoHandler(), { ...base, body: 'plain words', contentType: 'text/plain' });
    expect(text.body).to.include({ body: 'plain words' });
    const broken = await callHandler(createEchoHandler(), { ...base, body: '{oops', contentType: 'application/json' });
    expect(broken.body).to.include({ body: '{oops' });
    const none = await callHandler(createEchoHandler(), { route: 'echoGet', method: 'GET', path: '/echo/1' });
    expect(none.body).to.deep.include({ body: null, route: 'echoGet', params: {}, query: {} });
  });

  it('answers any route name, and requests without HTTP context', async () => {
    const reply = await callHandler(createEchoHandler(), { route: 'anything' });
    expect(reply.status).to.equal(200);
    expect(reply.body).to.include({ route: 'anything', method: null, path: null });
  });

  it('replies with the status asked for in ?status=', async () => {
    const reply = await callHandler(createEchoHandler(), { ...base, query: { status: '503' } });
    expect(reply.status).to.equal(503);
    expect(reply.body).to.include({ route: 'echo' });
  });

  it('replies after ?delayMs=', async () => {
    const handler = createEchoHandler();
    const started = Date.now();
    const pending = handler(fakeContext({ ...base, query: { delayMs: '30' } }));
    expect(pending).to.be.instanceOf(Promise);
    const reply = await pending;
    expect(Date.now() - started).to.be.at.least(25);
    expect(reply).to.include({ status: 200 });
  });

  it('replies synchronously without a delay', () => {
    const reply = createEchoHandler()(fakeContext(base));
    expect(reply).to.not.be.instanceOf(Promise);
  });

  it('answers 400 for a bad delayMs or status', async () => {
    const queries: Record<string, string>[] = [
      { delayMs: '60001' },
      { delayMs: '-1' },
      { delayMs: 'soon' },
      { status: '99' },
      { status: '600' },
      { status: '2OO' },
    ];
    for (const query of queries) {
      const reply = await callHandler(createEchoHandler(), { ...base, query });
      expect(reply.status, JSON.stringify(query)).to.equal(400);
      expect(reply.body).to.include({ error: 'BAD_ECHO_PARAMETER' });
    }
  });

  it('takes the first value of a repeated query parameter', async () => {
    const reply = await callHandler(createEchoHandler(), { ...base, query: { status: ['201', '500'] } });
    expect(reply.status).to.equal(201);
  });
});
