/** Test support: a loopback proxy in front of the real engine that behaves like Docker 29 (a stand-in). */
export * from './docker29-stand-in-proxy.fixture.js';
