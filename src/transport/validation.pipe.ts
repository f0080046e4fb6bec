import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';

/** One pipe for every route: converts what it can, rejects the rest with every rule that failed. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    stopAtFirstError: true,
    exceptionFactory: (errors: ValidationError[]) => new BadRequestException(flatten(errors).join('; ')),
  });
}

function flatten(errors: ValidationError[]): string[] {
  return errors.flatMap((error) => [...Object.values(error.constraints ?? {}), ...flatten(error.children ?? [])]);
}
