// dynalite (DynamoDB's API on LevelDB) on 127.0.0.1:PORT with its data in DIR,
// for tests/s3. dynalite 4.0 exits on an error event of a request or a socket
// that nobody handles (a client that drops its connection mid-request): this
// wrapper handles them, so one dropped connection never stops the server.
"use strict";
const dynalite = require("dynalite");

const [port, dir] = process.argv.slice(2);
const server = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.on("connection", (sock) => sock.on("error", () => {}));
server.on("request", (req, res) => {
  req.on("error", () => {});
  res.on("error", () => {});
});
server.on("clientError", (err, sock) => sock.destroy());
process.on("uncaughtException", (err) => console.error("dynalite: kept serving after", err));
server.listen(Number(port), "127.0.0.1", () => console.log("dynalite on " + port));
