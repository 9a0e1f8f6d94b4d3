import type { Routes } from '@angular/router';
import { adminGuard, authGuard, guestGuard } from '@latchkey/angular';

export const routes: Routes = [
  {
    path: '',
    title: 'Latchkey',
    loadComponent: () => import('./home/home-page').then((m) => m.HomePage),
  },
  {
    path: 'login',
    title: 'Log in · Latchkey',
    canActivate: [guestGuard],
    loadComponent: () => import('./sign-in/sign-in-page').then((m) => m.SignInPage),
  },
  {
    path: 'register',
    title: 'Register · Latchkey',
    canActivate: [guestGuard],
    loadComponent: () => import('./register/register-page').then((m) => m.RegisterPage),
  },
  {
    path: 'status',
    title: 'Your account · Latchkey',
    canActivate: [authGuard],
    loadComponent: () => import('./status/status-page').then((m) => m.StatusPage),
  },
  {
    path: 'sessions',
    title: 'Sessions · Latchkey',
    canActivate: [authGuard],
    loadComponent: () => import('./sessions/sessions-page').then((m) => m.SessionsPage),
  },
  {
    path: 'account',
    title: 'Account · Latchkey',
    canActivate: [authGuard],
    loadComponent: () => import('./account/account-page').then((m) => m.AccountPage),
  },
  {
    path: 'admin',
    title: 'Admin · Latchkey',
    canActivate: [adminGuard],
    loadComponent: () => import('./admin/admin-page').then((m) => m.AdminPage),
  },
  {
    path: 'forgot-password',
    title: 'Forgot password · Latchkey',
    loadComponent: () => import('./email/forgot-password-page').then((m) => m.ForgotPasswordPage),
  },
  {
    path: 'reset-password',
    title: 'Reset password · Latchkey',
    loadComponent: () => import('./email/reset-password-page').then((m) => m.ResetPasswordPage),
  },
  {
    path: 'verify-email',
    title: 'Verify email · Latchkey',
    data: { kind: 'verify' },
    loadComponent: () => import('./email/email-token-page').then((m) => m.EmailTokenPage),
  },
  {
    path: 'confirm-email',
    title: 'Confirm email · Latchkey',
    data: { kind: 'confirm' },
    loadComponent: () => import('./email/email-token-page').then((m) => m.EmailTokenPage),
  },
  {
    path: '**',
    title: 'Page not found · Latchkey',
    loadComponent: () => import('./not-found/not-found-page').then((m) => m.NotFoundPage),
  },
];
