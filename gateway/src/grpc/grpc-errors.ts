import { Metadata, type ServiceError, type status } from '@grpc/grpc-js';
import { ERROR_CODES, GatewayError, isGatewayError, type ErrorCode } from '../errors.js';

/** A GatewayError as a gRPC error: its mapped status, its message, and the KGW_* code in trailers. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const gatewayError = isGatewayError(err)
    ? err
    : new GatewayError('KGW_INTERNAL', 'internal error', { cause: err });
  const metadata = new Metadata();
  metadata.set('kgw-code', gatewayError.code);
  metadata.set('kgw-error-code', String(gatewayError.spec.errorCode));
  return {
    code: gatewayError.spec.grpc as status,
    details: gatewayError.message,
    message: gatewayError.message,
    metadata,
  };
}

/** The error object of proto messages (Error), from a KGW_* code and message. */
export function errorMessage(
  code: ErrorCode,
  message: string,
): { code: string; message: string; retryable: boolean } {
  return { code, message, retryable: ERROR_CODES[code].retryable };
}
