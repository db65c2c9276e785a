import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'sample_users' })
export class User {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: String, length: 64, unique: true })
  username!: string;

  /** `scrypt$<salt>$<key>`, both base64url. */
  @Column({ name: 'password_hash', type: String, length: 255 })
  passwordHash!: string;

  /** May use the admin panel and the admin endpoints. */
  @Column({ name: 'is_admin', type: Boolean, default: false })
  isAdmin!: boolean;
}
