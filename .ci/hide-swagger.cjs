// `node --require ./.ci/hide-swagger.cjs …`: @nestjs/swagger cannot be found, as in an app that never installed it.
// Its name is swapped for one no package has, so Node itself reports it missing.
const Module = require('node:module');

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const hidden = request === '@nestjs/swagger' || request.startsWith('@nestjs/swagger/');
  return resolve.call(this, hidden ? '@nestjs/swagger-is-not-installed' : request, ...rest);
};
