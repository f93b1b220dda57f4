/**
 * Where the functions' code comes from. By default cargo-lambda-cdk's `RustFunction` builds the
 * real arm64 bundles at synth, so `cdk deploy` deploys working functions; `scripts/build-bundles`
 * builds them first and synthesizes with them; the tests ask for the committed placeholder (no
 * Rust build, no hashing of the workspace).
 */
import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { RustFunction } from 'cargo-lambda-cdk';
import { Construct } from 'constructs';
import { REPO_ROOT } from './config';

/** Every function: provided.al2023 on Graviton by default (docs/construct.md). */
export const RUNTIME = lambda.Runtime.PROVIDED_AL2023;
export const ARCHITECTURE = lambda.Architecture.ARM_64;

/** The function settings the construct decides; the code source adds runtime, handler and code. */
export type FunctionSettings = Omit<lambda.FunctionProps, 'code' | 'runtime' | 'handler' | 'architecture'>;

/** A source of the three functions' code. */
export abstract class FunctionCode {
  /**
   * A tiny committed directory (`infra/placeholder/`) standing in for every function: synthesis
   * needs no Rust build. A function deployed with it fails every invocation with a message
   * saying so: for tests and template reviews only (`-c fleetopt:code=placeholder`).
   */
  static placeholder(directory = path.join(REPO_ROOT, 'infra', 'placeholder')): FunctionCode {
    return new AssetCode((_binary) => directory);
  }

  /** Bundles already built by `cargo lambda build`: `<directory>/<binary>/bootstrap`. */
  static fromBundles(directory: string): FunctionCode {
    return new AssetCode((binary) => path.join(directory, binary));
  }

  /**
   * cargo-lambda-cdk's `RustFunction` (the default): `cargo lambda build --release --arm64
   * --locked --bin <binary>` at synth, from the workspace at `manifestPath`; locally when
   * cargo-lambda is on the PATH (`scripts/emulator install` puts it and zig in `.venv/bin`, which
   * the app adds to its PATH), otherwise in cargo-lambda's Docker image.
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
      bundling: { architecture, cargoLambdaFlags: ['--locked'] },
    });
  }
}
