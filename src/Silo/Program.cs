using Anchor.Orleans.Silo;

// Configuration errors print one line each and exit 78 (EX_CONFIG); see StartupGuard.
return await StartupGuard.RunAsync(() => SiloApplication.Build(args));
