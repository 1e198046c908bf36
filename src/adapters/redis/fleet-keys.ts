/** Every key and channel of one fleet, under `softclient4es:fleet:<id>:`. */
export class FleetKeys {
  readonly prefix: string;

  constructor(readonly fleetId: string) {
    this.prefix = `softclient4es:fleet:${fleetId}:`;
  }

  /** The installation's instance id (created once with SET NX). */
  get instanceId(): string {
    return `${this.prefix}instance-id`;
  }

  /** The refresher's lease: `<member id> <fence>`, with a TTL. */
  get lease(): string {
    return `${this.prefix}lease`;
  }

  /** The fencing counter: INCR'd for every new lease holder. */
  get fence(): string {
    return `${this.prefix}fence`;
  }

  /** The last good license: `{"jwt", "fence"}`. */
  get license(): string {
    return `${this.prefix}license`;
  }

  /** A member's heartbeat key (with a TTL). */
  member(memberId: string): string {
    return `${this.prefix}member:${memberId}`;
  }

  get memberPattern(): string {
    return `${this.prefix}member:*`;
  }

  /** The lease holder's answer to forwarded refresh `requestId` (with a TTL). */
  reply(requestId: string): string {
    return `${this.prefix}refresh-reply:${requestId}`;
  }

  /** Channel: a license was published (message: its fence). */
  get licenseChannel(): string {
    return `${this.prefix}license-published`;
  }

  /** Channel: a member asks the lease holder to refresh (message: a request id). */
  get refreshRequestChannel(): string {
    return `${this.prefix}refresh-requests`;
  }

  /** Channel: the lease holder answered a request (message: the request id). */
  get refreshReplyChannel(): string {
    return `${this.prefix}refresh-replies`;
  }
}
