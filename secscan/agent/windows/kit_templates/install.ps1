<#
  secscan: install the zero-install agent on this PC (from the kit `secscan agent package windows`).

  Run as administrator, from the kit folder (a USB stick, or a share for Group Policy):
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File install.ps1
  Group Policy computer startup script (runs as SYSTEM at every start; installing again is harmless):
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File \\server\secscan-kit$\<unit>\install.ps1 -SkipSelfTest

  What it does, and nothing else:
    1. refuses unless it runs with administrator rights;
    2. creates %ProgramData%\secscan, readable by SYSTEM (S-1-5-18) and Administrators
       (S-1-5-32-544) only, owned by Administrators, inheritance from ProgramData cut;
    3. copies collect.ps1, secscan.json and token.txt there (they inherit that ACL);
    4. registers the Task Scheduler task "secscan agent" (secscan-task.xml of the kit) through the
       Task Scheduler COM object (schtasks.exe /Create /XML when that fails): as SYSTEM, daily at
       08:30 plus up to 2 h at random, and 15 min after start-up; a second start while one runs is
       ignored; stopped after 10 min. It runs
         powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass
           -File "%ProgramData%\secscan\collect.ps1" -Config "%ProgramData%\secscan\secscan.json"
    5. runs collect.ps1 -SelfTest once and prints what it says (unless -SkipSelfTest).

  Exit codes: 0 installed (self-test OK), 1 not administrator, 2 the kit is incomplete or its token
  is not a unit token, 3 the folder or the task could not be set up, 6 installed but the self-test
  found a problem (the task is registered; see the lines above).
  Windows PowerShell 5.1 (Windows 7/8.1 with WMF 5.1), no ScheduledTasks module needed.
#>
param([switch]$SkipSelfTest)

$ErrorActionPreference = 'Stop'
$TaskName = 'secscan agent'
$SidSystem = 'S-1-5-18'
$SidAdmins = 'S-1-5-32-544'
$SidTrustedInstaller = 'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464'
$KitFiles = @('collect.ps1', 'secscan.json', 'token.txt')
$Kit = $PSScriptRoot
$State = [System.IO.Path]::Combine([System.Environment]::GetFolderPath('CommonApplicationData'), 'secscan')

function Say([string]$Text) {
  [Console]::Out.WriteLine('secscan install: ' + $Text)
}

function Stop-Install([int]$Code, [string]$Text) {
  [Console]::Error.WriteLine('secscan install: ' + $Text)
  exit $Code
}

function Get-Message($Exception) {
  $e = $Exception
  while ($null -ne $e.InnerException -and $e -is [System.Management.Automation.RuntimeException]) { $e = $e.InnerException }
  return ([string]$e.Message).Trim()
}

# SYSTEM and Administrators, full control, for this folder and everything below; nothing inherited
# from ProgramData (where every user may create files). By SID: account names are localized.
function New-StateSecurity {
  $security = New-Object System.Security.AccessControl.DirectorySecurity
  $security.SetAccessRuleProtection($true, $false)
  $inherit = [System.Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit'
  $propagate = [System.Security.AccessControl.PropagationFlags]::None
  $full = [System.Security.AccessControl.FileSystemRights]::FullControl
  $allow = [System.Security.AccessControl.AccessControlType]::Allow
  foreach ($sid in @($SidSystem, $SidAdmins)) {
    $account = New-Object System.Security.Principal.SecurityIdentifier($sid)
    $security.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule($account, $full, $inherit, $propagate, $allow)))
  }
  $security.SetOwner((New-Object System.Security.Principal.SecurityIdentifier($SidAdmins)))
  return $security
}

# 1. Administrator rights.
$identity = [System.Security.Principal.WindowsIdentity]::GetCurrent()
$principal = New-Object System.Security.Principal.WindowsPrincipal($identity)
if (-not $principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)) {
  Stop-Install 1 'needs administrator rights: right-click Windows PowerShell, "Run as administrator", and run install.ps1 again'
}

# The kit: the three files and the task definition beside this script, and a real unit token.
foreach ($name in $KitFiles + @('secscan-task.xml')) {
  if (-not [System.IO.File]::Exists([System.IO.Path]::Combine($Kit, $name))) {
    Stop-Install 2 ('the kit is incomplete: ' + $name + ' is missing beside install.ps1 in ' + $Kit)
  }
}
$tokenText = (([System.IO.File]::ReadAllText([System.IO.Path]::Combine($Kit, 'token.txt'))).Trim() -split '\s+')[0]
if ($tokenText -cnotmatch '^sst_[A-Za-z0-9]{8,32}\.[A-Za-z0-9_-]{32,128}$') {
  Stop-Install 2 'token.txt of the kit does not hold a secscan unit token (sst_<key id>.<secret>): make the kit again'
}

# 2. The state folder. A link is refused; a folder that an ordinary account created before us (it
# could still change the files the SYSTEM task runs) is removed and made again.
if ([System.IO.Directory]::Exists($State)) {
  $attributes = [System.IO.File]::GetAttributes($State)
  if (($attributes -band [System.IO.FileAttributes]::ReparsePoint) -ne 0) {
    Stop-Install 3 ($State + ' is a link (junction or symbolic link), not a folder: remove it and run install.ps1 again')
  }
}
$failure = ''
try {
  if ([System.IO.Directory]::Exists($State)) {
    $owner = [System.IO.Directory]::GetAccessControl($State, [System.Security.AccessControl.AccessControlSections]::Owner).GetOwner([System.Security.Principal.SecurityIdentifier]).Value
    if (@($SidSystem, $SidAdmins, $SidTrustedInstaller) -notcontains $owner) {
      Say ($State + ' exists but belongs to ' + $owner + ', not to SYSTEM or Administrators: removing it and starting afresh')
      [System.IO.Directory]::Delete($State, $true)
    }
  }
  $security = New-StateSecurity
  if ([System.IO.Directory]::Exists($State)) {
    [System.IO.Directory]::SetAccessControl($State, $security)
    Say ('folder ' + $State + ': access reset to SYSTEM and Administrators only')
  } else {
    $null = [System.IO.Directory]::CreateDirectory($State, $security)
    Say ('folder ' + $State + ' created, readable by SYSTEM and Administrators only')
  }
} catch {
  $failure = 'could not set up ' + $State + ': ' + (Get-Message $_.Exception)
}
if ($failure) { Stop-Install 3 $failure }

# 3. The files. An old file is deleted first, so a copy never writes through a link left in place.
try {
  foreach ($name in $KitFiles) {
    $source = [System.IO.Path]::Combine($Kit, $name)
    $target = [System.IO.Path]::Combine($State, $name)
    if ([System.IO.File]::Exists($target)) { [System.IO.File]::Delete($target) }
    [System.IO.File]::Copy($source, $target)
  }
  Say ('copied ' + ($KitFiles -join ', ') + ' to ' + $State)
} catch {
  $failure = 'could not copy the kit to ' + $State + ': ' + (Get-Message $_.Exception)
}
if ($failure) { Stop-Install 3 $failure }

# 4. The task: the kit's XML with this PC's paths and today's date written in.
$collect = [System.IO.Path]::Combine($State, 'collect.ps1')
$config = [System.IO.Path]::Combine($State, 'secscan.json')
$xml = New-Object System.Xml.XmlDocument
$xml.Load([System.IO.Path]::Combine($Kit, 'secscan-task.xml'))
$ns = New-Object System.Xml.XmlNamespaceManager($xml.NameTable)
$ns.AddNamespace('t', 'http://schemas.microsoft.com/windows/2004/02/mit/task')
$xml.SelectSingleNode('/t:Task/t:Actions/t:Exec/t:Arguments', $ns).InnerText =
  '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "' + $collect + '" -Config "' + $config + '"'
$xml.SelectSingleNode('/t:Task/t:Triggers/t:CalendarTrigger/t:StartBoundary', $ns).InnerText =
  [DateTime]::Now.ToString("yyyy-MM-dd'T'08:30:00", [System.Globalization.CultureInfo]::InvariantCulture)
$definition = $xml.DocumentElement.OuterXml
$registered = $false
$comError = ''
try {
  $scheduler = New-Object -ComObject 'Schedule.Service'
  $scheduler.Connect()
  # 6 = create or update; user S-1-5-18 (SYSTEM) with 5 = service-account logon: no password stored.
  $null = $scheduler.GetFolder('\').RegisterTask($TaskName, $definition, 6, $SidSystem, $null, 5, $null)
  $registered = $true
} catch {
  $comError = Get-Message $_.Exception
}
if (-not $registered) {
  # The same definition through schtasks.exe, which wants the XML file in UTF-16.
  $file = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'secscan-task-' + [guid]::NewGuid().ToString() + '.xml')
  try {
    [System.IO.File]::WriteAllText($file, '<?xml version="1.0" encoding="UTF-16"?>' + "`r`n" + $definition, [System.Text.Encoding]::Unicode)
    # No 2>&1: with ErrorActionPreference Stop, PS 5.1 would turn its first error line into an exception.
    $out = & schtasks.exe /Create /TN $TaskName /XML $file /RU SYSTEM /F
    if ($LASTEXITCODE -eq 0) { $registered = $true } else { $comError += '; schtasks: ' + (($out | ForEach-Object { [string]$_ }) -join ' ') }
  } catch {
    $comError += '; schtasks: ' + (Get-Message $_.Exception)
  } finally {
    if ([System.IO.File]::Exists($file)) { [System.IO.File]::Delete($file) }
  }
}
if (-not $registered) { Stop-Install 3 ('could not register the task "' + $TaskName + '": ' + $comError) }
Say ('task "' + $TaskName + '" registered: as SYSTEM, daily at 08:30 (+ up to 2 h) and 15 min after start-up')

# 5. The self-test, in this same PowerShell process.
if ($SkipSelfTest) {
  Say 'self-test skipped (-SkipSelfTest)'
  exit 0
}
Say ('self-test: ' + $collect + ' -SelfTest')
& $collect -Config $config -SelfTest
$code = $LASTEXITCODE
if ($code -ne 0) {
  Say ('installed, but the self-test found a problem (exit code ' + $code + '): see the lines above and HUONG-DAN.txt')
  exit 6
}
Say ('installed. First capture: 15 min after the next start-up, or now with: schtasks /Run /TN "' + $TaskName + '"')
exit 0
