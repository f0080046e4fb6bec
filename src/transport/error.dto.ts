import { ApiProperty } from '@nestjs/swagger';
import { ErrorBody } from './all-exceptions.filter';

/** OpenAPI description of every error answer (see AllExceptionsFilter). */
export class ErrorDto implements ErrorBody {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ example: 'Bad Request' }) error: string;
  @ApiProperty({ example: 'limitPerChat must be an integer from 1 to 10000' }) message: string;
}
