import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ErrorDto } from '../transport/error.dto';
import { MediaDto } from '../whatsapp/chats/chat.dto';
import { sendMedia } from './http/send-media';
import { MediaParams } from './media.dto';
import { MediaService } from './media.service';
import { MediaView } from './media.types';

const PATH = 'session/:id/chats/:chatId/messages/:messageId/media';
const NOT_FOUND = { status: 404, type: ErrorDto, description: 'Unknown session or message, a message of another chat, or a message without media' };

/** A message's media (README, "Media"): the bytes, and a download on request. */
@ApiTags('media')
@ApiSecurity('api-key')
@ApiResponse({ status: 401, type: ErrorDto, description: 'API_KEY is set and x-api-key is missing or wrong' })
@Controller('whatsapp-web')
export class MediaController {
  constructor(private readonly media: MediaService) {}

  @Get(PATH)
  @ApiOperation({ summary: 'The stored bytes, with Range (206), ETag/If-None-Match (304) and a Content-Disposition' })
  @ApiProduces('*/*')
  @ApiResponse({ status: 200, description: 'The whole file' })
  @ApiResponse({ status: 206, description: 'One range of it' })
  @ApiResponse({ status: 304, description: 'If-None-Match names its ETag (the SHA-256)' })
  @ApiResponse({ status: 416, description: 'The range starts past the end; Content-Range: bytes */size' })
  @ApiResponse(NOT_FOUND)
  @ApiResponse({ status: 409, type: ErrorDto, description: 'The media is not stored; the message names its status' })
  async get(@Param() { id, chatId, messageId }: MediaParams, @Req() request: Request, @Res() response: Response): Promise<void> {
    const file = await this.media.storedFile(id, chatId, messageId);
    await sendMedia(request, response, file, (range) => this.media.open(messageId, file, range));
  }

  @Post(PATH)
  @HttpCode(200)
  @ApiOperation({ summary: 'Download the media now (again), whatever MEDIA_DOWNLOAD says; answers the outcome' })
  @ApiResponse({ status: 200, type: MediaDto })
  @ApiResponse(NOT_FOUND)
  @ApiResponse({ status: 409, type: ErrorDto, description: 'The session is not ready; the message names its status' })
  download(@Param() { id, chatId, messageId }: MediaParams): Promise<MediaView> {
    return this.media.downloadNow(id, chatId, messageId);
  }
}
