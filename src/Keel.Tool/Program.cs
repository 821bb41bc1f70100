using Keel.Cli;

// The keel tool: the commands live in the Keel.Cli library (apps host them with their own workflows the same way).
return await KeelCli.RunAsync(args);
