import type { Routes } from '@angular/router';
import { authGuard, guestGuard } from '@latchkey/angular';
import { AccountPage } from './account-page';
import { HomePage } from './home-page';
import { LoginPage } from './login-page';

export const routes: Routes = [
  { path: '', component: HomePage, title: 'Example' },
  { path: 'login', component: LoginPage, canActivate: [guestGuard], title: 'Log in' },
  { path: 'account', component: AccountPage, canActivate: [authGuard], title: 'Account' },
  { path: '**', redirectTo: '' },
];
