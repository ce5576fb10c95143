// mppx (npm 0.11.0) tempo/charge server used as a real reference peer by tests/interop.
//
// Why a separate process: mppx is the TypeScript reference implementation of MPP; running the real
// server (not a re-implementation) is what proves that grok-mpp interoperates. It talks to a local
// anvil --network tempo chain through viem's `getClient` seam, so nothing leaves loopback.
//
// Environment:
//   PORT            port to bind on 127.0.0.1 (0 = any free port; the chosen one is printed)
//   TEMPO_RPC_URL   JSON-RPC URL of the anvil tempo chain (required)
//   CHAIN_ID        chain id of that chain (default 42431)
//   CURRENCY        TIP-20 token address (default pathUSD)
//   RECIPIENT       address that receives payments (required)
//   AMOUNT          default charge per request as a USD decimal string (default "0.006")
//   FEE_PAYER_KEY   optional private key: when set the server sponsors gas (methodDetails.feePayer)
//   REALM           challenge realm (default "mppx.test")
//   SECRET          HMAC secret for challenge ids (>= 32 bytes; a fixed test default otherwise)
//   DESCRIPTION     optional challenge description (Locus sends one)
//
// Routes: any path, any method. ?amount=<usd>&expires_in=<seconds>&currency=<token> override the
// charge per request (the challenge is HMAC-bound to the request, so the paid retry must repeat the query).
// On success the body is {"ok":true} with the Payment-Receipt header set by mppx.
// Once listening, prints exactly one line `READY <port>` on stdout.

import * as http from 'node:http'
import { Mppx, tempo } from 'mppx/server'
import { createClient, http as viemHttp } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { tempo as tempoMainnet, tempoModerato } from 'viem/chains'

function required(name) {
  const value = process.env[name]
  if (!value) {
    console.error(`mppx_server: environment variable ${name} is required`)
    process.exit(2)
  }
  return value
}

const rpcUrl = required('TEMPO_RPC_URL')
const recipient = required('RECIPIENT')
const chainId = Number(process.env.CHAIN_ID ?? '42431')
const currency = process.env.CURRENCY ?? '0x20c0000000000000000000000000000000000000'
const defaultAmount = process.env.AMOUNT ?? '0.006'
const realm = process.env.REALM ?? 'mppx.test'
const secretKey = process.env.SECRET ?? 'grok-mpp-interop-mppx-secret-key-0123456789'
const feePayerKey = process.env.FEE_PAYER_KEY
const description = process.env.DESCRIPTION
const port = Number(process.env.PORT ?? '0')

// viem's Tempo chain definitions carry the 0x76 serializers/formatters; reuse them under the id the
// local anvil was started with.
const baseChain = chainId === tempoMainnet.id ? tempoMainnet : tempoModerato
const chain = { ...baseChain, id: chainId }
const client = createClient({ chain, transport: viemHttp(rpcUrl) })

const method = tempo.charge({
  chainId,
  currency,
  recipient,
  decimals: 6,
  getClient: () => client,
  ...(feePayerKey ? { feePayer: privateKeyToAccount(feePayerKey) } : {}),
})

const mppx = Mppx.create({ methods: [method], realm, secretKey })

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const amount = url.searchParams.get('amount') ?? defaultAmount
    const expiresIn = url.searchParams.get('expires_in')
    const options = { amount }
    const currencyOverride = url.searchParams.get('currency')
    if (currencyOverride !== null) options.currency = currencyOverride
    if (description) options.description = description
    if (expiresIn !== null) options.expires = new Date(Date.now() + Number(expiresIn) * 1000).toISOString()
    const result = await Mppx.toNodeListener(mppx.charge(options))(req, res)
    if (result.status === 402) return
    res.setHeader('Content-Type', 'application/json')
    res.end(JSON.stringify({ ok: true }))
  } catch (error) {
    console.error('mppx_server: handler error', error)
    if (!res.headersSent) {
      res.statusCode = 500
      res.setHeader('Content-Type', 'application/json')
    }
    res.end(JSON.stringify({ ok: false, error: String(error) }))
  }
})

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`READY ${server.address().port}\n`)
})

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)))
