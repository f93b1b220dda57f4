/**
 * Where the functions' code comes from. Tests and `npm run synth` use a committed placeholder
 * (no Rust build, no hashing of the workspace); `scripts/build-bundles` synthesizes with the real
 * arm64 bundles through cargo-lambda-cdk's `RustFunction`.
 */
import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { RustFunction } from 'cargo-lambda-cdk';
import { Construct } from 'constructs';
import { REPO_ROOT } from './config';

/** Every function: provided.al2023 on Graviton by default (DESIGN section 10). */
export const RUNTIME = lambda.Runtime.PROVIDED_AL2023;
export const ARCHITECTURE = lambda.Architecture.ARM_64;

/** The function settings the construct decides; the code source adds runtime, handler and code. */
export type FunctionSettings = Omit<lambda.FunctionProps, 'code' | 'runtime' | 'handler' | 'architecture'>;

/** A source of the three functions' code. */
export abstract class FunctionCode {
  /**
   * A tiny committed directory (`infra/placeholder/`) standing in for every function: synthesis
   * needs no Rust build. A function deployed with it fails every invocation with a message
   * saying so.
   */
  static placeholder(directory = path.join(REPO_ROOT, 'infra', 'placeholder')): FunctionCode {
    return new AssetCode((_binary) => directory);
  }

  /** Bundles already built by `cargo lambda build`: `<directory>/<binary>/bootstrap`. */
  static fromBundles(directory: string): FunctionCode {
    return new AssetCode((binary) => path.join(directory, binary));
  }

  /**
   * cargo-lambda-cdk's `RustFunction`: `cargo lambda build --release --arm64 --bin <binary>` at
   * synth, from the workspace at `manifestPath` (needs cargo-lambda and zig on the PATH).
   */
  static fromCargo(manifestPath = path.join(REPO_ROOT, 'Cargo.toml')): FunctionCode {
    return new CargoCode(manifestPath);
  }

  /** Creates the function for Cargo binary `binary`, built for `architecture`. */
  abstract create(scope: Construct, id: string, binary: string, settings: FunctionSettings, architecture: lambda.Architecture): lambda.Function;
}

class AssetCode extends FunctionCode {
  constructor(private readonly directory: (binary: string) => string) {
    super();
  }

  create(scope: Construct, id: string, binary: string, settings: FunctionSettings, architecture: lambda.Architecture): lambda.Function {
    return new lambda.Function(scope, id, {
      ...settings,
      runtime: RUNTIME,
      architecture,
      handler: 'bootstrap',
      code: lambda.Code.fromAsset(this.directory(binary)),
    });
  }
}

class CargoCode extends FunctionCode {
  constructor(private readonly manifestPath: string) {
    super();
  }

  create(scope: Construct, id: string, binary: string, settings: FunctionSettings, architecture: lambda.Architecture): lambda.Function {
    return new RustFunction(scope, id, {
      ...settings,
      manifestPath: this.manifestPath,
      binaryName: binary,
      runtime: 'provided.al2023',
      architecture,
      bundling: { architecture },
    });
  }
}
