import { IsJWT, IsString } from 'class-validator';

export class RefreshTokenDto {
  @IsString()
  @IsJWT({ message: 'refresh_token must be a JWT' })
  refresh_token!: string;
}
